{% include cookiecutter.shape ~ "/handler.py" -%}
