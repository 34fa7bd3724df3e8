"""The configuration language: YAML files, rendered by Jinja2, validated by pydantic."""
