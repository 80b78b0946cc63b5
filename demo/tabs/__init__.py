"""One module per tab. Each holds its layout, its handlers and its API names, and declares:

TITLE                      the tab's label
examples(facts) -> dict    valid arguments of each of its endpoints, {api_name: {parameter: value}} in the
                           handler's order (the e2e fuzz test and benchmarks/stress_app.py spoil them one at
                           a time)
build(ctx, tab) -> None    its components and events, called inside its gr.Tab
                           (and its link: links.share_row() in the layout, links.add() with
                           the main endpoint's parameters; see demo/links.py)

demo/ui.py lists the tabs in TABS; a new tab is a new module here and one entry there.
"""
