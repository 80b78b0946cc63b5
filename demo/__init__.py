"""The Gradio app: engine.py (pure logic), validation.py (input checks), ui.py (the Blocks)."""
