{% include cookiecutter.shape ~ "/test_tool.py" -%}
