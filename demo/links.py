"""Links that reopen a view. Each tab's "Copy link" puts the tab and its settings in the page's address, as query
parameters named after the API's own (`/?tab=generate&run=stable&epoch=20&seed=7&grid_size=6&labels=false`); a page
opened with such a link selects the tab, sets its controls and draws its picture, and says in one line which
settings it could not use (they keep their defaults).

A tab declares its link at the end of its build: `links.add(ctx, "generate", share, [links.run(...), ...], draw,
outputs)`, where `share` is the row links.share_row() put in its layout. demo/ui.py reads the links on page load.
"""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import gradio as gr

from demo import widgets
from demo.context import Context
from demo.validation import SEED_MAX, InputError, choice, real_number, whole_number

GRADIO_OWN = ("__theme", "view", "__sign")  # query parameters Gradio itself reads: left alone
TAB = "tab"

# The button's script: the settings on screen, in the parameters' order, become the link; it goes on the clipboard
# where the page may write there (https or localhost) and in the box beside the button in any case.
COPY_JS = """
(...values) => {
  const names = NAMES;
  const query = new URLSearchParams({ tab: TAB });
  names.forEach((name, i) => query.set(name, String(values[i])));
  const link = `${location.origin}${location.pathname}?${query}`;
  navigator.clipboard?.writeText(link).catch(() => {});
  return link;
}
"""


@dataclass
class Param:
    """One setting a link carries: its API name, the control that shows it, how a text from the address becomes a
    clean value (raising InputError), the value it falls back to, and the control's update for a value."""

    name: str
    component: gr.components.Component
    check: Callable[[str, dict], object]  # (text, values chosen so far) -> value
    default: Callable[[dict], object]  # (values chosen so far) -> value
    update: Callable[[object, dict], object] = lambda value, chosen: value


@dataclass
class TabLink:
    tab: str
    title: str
    params: list[Param]
    draw: Callable | None = None  # the tab's main handler, called with the params' values in order
    outputs: list = field(default_factory=list)


def number(text: str) -> object:
    """A number as an address writes it ('7' an int, '0.5' or '1e-4' a float); other text is left for the check to
    refuse."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def run(ctx: Context, component: gr.Dropdown, name: str = "run") -> Param:
    def check(text: str, chosen: dict) -> str:
        return choice(text, name, ctx.names)

    def update(value: str, chosen: dict) -> gr.Dropdown:
        return gr.Dropdown(choices=ctx.runs.choices(), value=value)

    return Param(name, component, check, lambda chosen: component.value, update)


def epoch(ctx: Context, component: gr.Slider, runs: Sequence[str] = ("run",), info: Callable | None = None) -> Param:
    """An epoch within the saved range of the run(s) chosen before it (the handler snaps it to a saved one)."""

    def saved(chosen: dict) -> list[int]:
        return sorted({e for r in runs for e in ctx.runs.engines[chosen[r]].epochs})

    def check(text: str, chosen: dict) -> int:
        epochs = saved(chosen)
        return whole_number(number(text), "epoch", epochs[0], epochs[-1])

    def default(chosen: dict) -> int:
        epochs = saved(chosen)
        return min(max(component.value, epochs[0]), epochs[-1])

    def update(value: int, chosen: dict) -> gr.Slider:
        settings = widgets.slider_range(saved(chosen), value)
        if info is not None:
            settings["info"] = info(chosen)
        return gr.Slider(**settings)

    return Param("epoch", component, check, default, update)


def seed(component: gr.Number, name: str = "seed") -> Param:
    return whole(component, name, 0, SEED_MAX)


def whole(component: gr.components.Component, name: str, low: int, high: int) -> Param:
    return Param(name, component, lambda text, chosen: whole_number(number(text), name, low, high), fixed(component))


def real(component: gr.components.Component, name: str, low: float, high: float) -> Param:
    return Param(name, component, lambda text, chosen: real_number(number(text), name, low, high), fixed(component))


def flag(component: gr.Checkbox, name: str = "labels") -> Param:
    def check(text: str, chosen: dict) -> bool:
        if text.lower() not in ("true", "false"):
            raise InputError(f"{name} must be true or false")
        return text.lower() == "true"

    return Param(name, component, check, fixed(component))


def one_of(component: gr.components.Component, name: str, options: Sequence[str]) -> Param:
    return Param(name, component, lambda text, chosen: choice(text, name, options), fixed(component))


def fixed(component: gr.components.Component) -> Callable[[dict], object]:
    return lambda chosen: component.value


def share_row(tab: str) -> tuple[gr.Button, gr.Textbox]:
    """The "Copy link" button and the box that shows the link, where the tab's layout puts them."""
    with gr.Row(equal_height=True, elem_classes="share-row"):
        button = gr.Button("Copy link", size="sm", scale=0, min_width=110, elem_id=f"copy-link-{tab}")
        box = gr.Textbox(
            show_label=False,
            placeholder="A link that reopens this tab with these settings",
            max_lines=1,
            interactive=False,
            buttons=["copy"],
            container=False,
            scale=4,
            elem_id=f"link-{tab}",
        )
    return button, box


def add(
    ctx: Context,
    tab: str,
    title: str,
    share: tuple[gr.Button, gr.Textbox],
    params: list[Param],
    draw: Callable | None = None,
    outputs: Sequence = (),
) -> TabLink:
    """Declare `tab`'s link: its "Copy link" writes `params` from the controls, a page opened with it reads them."""
    button, box = share
    script = COPY_JS.replace("NAMES", json.dumps([p.name for p in params])).replace("TAB", json.dumps(tab))
    button.click(None, [p.component for p in params], box, js=script, api_visibility="private", queue=False)
    link = TabLink(tab, title, params, draw, list(outputs))
    ctx.links.append(link)
    return link


def read(links: Sequence[TabLink], tabs: dict[str, str], query: dict[str, str]) -> tuple[str | None, dict, str]:
    """The tab a link asks for, its values (defaults where missing or bad) and the one line about what was not
    used ('' when all was). No tab (and no setting) in the query: (None, {}, '') and the page stays as it is."""
    query = {key: value for key, value in query.items() if key not in GRADIO_OWN}
    if not query:
        return None, {}, ""
    bad, missing = [], []
    tab = query.pop(TAB, None)
    if tab not in tabs:
        first = next(iter(tabs))
        if tab is None:
            missing.append(f"tab (showing {tabs[first]})")
        else:
            bad.append(f"tab={tab[:40]} (one of {', '.join(tabs)}; showing {tabs[first]})")
        tab = first
    link = next((link for link in links if link.tab == tab), None)
    chosen: dict = {}
    for param in link.params if link else []:
        if param.name not in query:
            chosen[param.name] = param.default(chosen)
            missing.append(param.name)
            continue
        text = query.pop(param.name)
        try:
            chosen[param.name] = param.check(text, chosen)
        except InputError as err:
            chosen[param.name] = param.default(chosen)
            bad.append(f"{param.name}={text[:40]} ({err})")
    parts = []
    if bad:
        parts.append(f"not usable: {'; '.join(bad)}")
    if missing:
        parts.append(f"not in the link: {', '.join(missing)}")
    if bad or missing:
        parts[-1] += " (these show their defaults)"
    if query:
        parts.append(f"ignored (not settings of {tabs[tab]}): {', '.join(key[:40] for key in query)}")
    line = f"From this link, {'; '.join(parts)}." if parts else ""
    return tab, chosen, line


def note_line() -> gr.Markdown:
    """Where a page opened with a link says which of its settings it could not use (hidden until then)."""
    return gr.Markdown(visible=False, elem_classes="note", elem_id="link-note")


def on_load(ctx: Context, blocks: gr.Blocks, tabs_block: gr.Tabs, note: gr.Markdown, titles: dict[str, str]) -> None:
    """When a page opens with a link: select its tab, set the controls and draw the picture.

    The page load only writes the link's settings into one gr.State per tab; that State's change event then updates
    that tab alone. (Any update Gradio sends to a component, gr.skip() too, replaces the session's copy of it with a
    fresh one: a load that answered every page with gr.skip() for every tab's controls and pictures would cost each
    session about 60 such copies, and the pictures' copies would lose the file names their downloads get.)"""
    links: list[TabLink] = list(ctx.links)
    states = {link.tab: gr.State(None) for link in links}
    selected = gr.State(None)  # a link to a tab that declares no settings: the tab and the line only

    def view(query: dict, quiet: bool = False) -> list:
        tab, chosen, line = read(links, titles, query)
        line = "" if quiet else line
        if tab is None:
            return [gr.skip()] * (len(states) + 1)
        payload = {"tab": tab, "values": chosen, "line": line, "opened": time.time()}
        return [payload if name == tab else gr.skip() for name in states] + [gr.skip() if tab in states else payload]

    def opened(request: gr.Request):
        return view(dict(request.query_params))

    outputs = [*states.values(), selected]
    blocks.load(opened, None, outputs, api_visibility="private", show_progress="hidden")
    # The Tour's buttons (demo/tabs/tour.py) open their views the same way, in place, without the note line.
    for button, query in ctx.tour:
        shown = {key: str(value) for key, value in query.items()}
        button.click(
            lambda shown=shown: view(shown, quiet=True), None, outputs, api_visibility="private", show_progress="hidden"
        )
    selected.change(
        lambda payload: [gr.Tabs(selected=payload["tab"]), gr.Markdown(payload["line"], visible=bool(payload["line"]))],
        selected,
        [tabs_block, note],
        api_visibility="private",
        show_progress="hidden",
    )
    for link in links:
        states[link.tab].change(
            applier(link), states[link.tab], [tabs_block, note, *(p.component for p in link.params), *link.outputs],
            api_visibility="private", show_progress="hidden",
        )  # fmt: skip


def applier(link: TabLink) -> Callable:
    """The change event of `link`'s State: its tab, the line, the controls, and the picture drawn."""

    def apply(payload: dict) -> list:
        chosen, line = payload["values"], payload["line"]
        updates = [p.update(chosen[p.name], chosen) for p in link.params]
        drawn = [gr.skip()] * len(link.outputs)
        if link.draw is not None:
            try:
                result = link.draw(*(chosen[p.name] for p in link.params))
                drawn = [result] if len(link.outputs) == 1 else list(result)
            except gr.Error as err:  # the checks in read() passed, so this is rare: say it on the line
                line = f"{line} The picture was not drawn: {err.message}".strip()
        return [gr.Tabs(selected=link.tab), gr.Markdown(line, visible=bool(line)), *updates, *drawn]

    apply.__name__ = f"link_{link.tab}"
    return apply
