"""The notebook view of results: well-formed, self-contained HTML with every fact of the text."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest

import convexcheck as cc
from convexcheck.explain.describe import describe_check
from convexcheck.explain.sections import document_heading

VOID = {"img", "meta", "br", "hr", "input", "link"}


class _Balance(HTMLParser):
    """Fails on a closing tag that does not match the open one, and on external resources."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.images = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("src", "href"):
            value = attributes.get(key)
            assert value is None or value.startswith("data:image/png;base64,"), (tag, key, value)
        if tag == "img":
            self.images += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def well_formed(text: str) -> _Balance:
    parser = _Balance()
    parser.feed(text)
    parser.close()
    assert parser.stack == [], parser.stack
    return parser


@pytest.mark.parametrize(
    ("expression", "variables"),
    [("log(1 + exp(x))", None), ("x*y", None), ("x*exp(x) + Abs(x - 1)", {"x": "[0, 5]"})],
)
def test_check_html_is_well_formed_and_holds_every_line(expression, variables):
    result = cc.check(expression, variables)
    page = result._repr_html_()
    assert page.startswith('<div class="convexcheck">') and page.endswith("</div>")
    well_formed(page)
    for section in describe_check(result):
        heading, lines = document_heading(section)
        assert html.escape(heading or "") in page, heading
        for line in lines:
            if line.verdict is None:
                assert html.escape(line.text) in page, line.text
    assert "<details><summary>" in page  # the derivation tree is collapsed
    markdown = result._repr_markdown_()
    assert result.curvature in markdown and expression in markdown


def test_a_witness_is_plotted_with_matplotlib():
    page = cc.check("x*y")._repr_html_()
    assert well_formed(page).images == 2  # one witness per question, each with its segment plot


def test_without_matplotlib_the_witness_is_a_table(monkeypatch):
    import convexcheck.explain.report as report

    def no_matplotlib(*_args, **_kwargs):
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(report, "expr_segment_figure", no_matplotlib)
    result = cc.check("x*y")
    page = result._repr_html_()
    assert well_formed(page).images == 0
    assert "<table>" in page and html.escape(str(result.convex.witness["t"])) in page


def test_model_html_is_well_formed():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    data = (torch.randn(16, 2), torch.randn(16, 1))
    result = cc.check_model(model, torch.nn.functional.mse_loss, data)
    page = result._repr_html_()
    well_formed(page)
    assert result.convex.answer in page and "Jensen" in page
    assert result.convex.answer in result._repr_markdown_()
