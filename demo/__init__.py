"""The Gradio app: engine.py (pure logic), validation.py (input checks), context.py (what handlers share),
stats.py and widgets.py (shared pieces), tabs/ (one module per tab), ui.py (assembles the tabs)."""
