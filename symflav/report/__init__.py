"""LaTeX output: a printer with the paper's notation and jinja2 templates."""
