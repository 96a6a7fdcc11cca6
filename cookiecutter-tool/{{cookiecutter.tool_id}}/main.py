"""{{ cookiecutter.tool_name | docstring }}: the app. The run handler is in handler.py.

``python main.py --port 8000`` serves it on 127.0.0.1; ``pixie run .`` hosts it with a web UI.
"""

from __future__ import annotations

from pixie_sdk import make_tool_app, serve

from handler import run

app = make_tool_app(__file__, run)


if __name__ == "__main__":
    serve(app)
