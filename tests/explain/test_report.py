"""HTML/Markdown reports: self-contained, with plots that a real browser renders."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convexcheck.cli import main

MODELS = Path(__file__).resolve().parents[1] / "numeric" / "models"
_PROBE = (
    "<script>window.addEventListener('load', function () {"
    "var s = Array.prototype.map.call(document.images, function (i) {"
    "return i.complete && i.naturalWidth > 0 ? i.naturalWidth + 'x' + i.naturalHeight : 'broken';"
    "}); document.body.setAttribute('data-rendered', s.join(','));});</script>"
)


def _images(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    paths = {
        "mlp": out / "mlp.html",
        "linear": out / "linear.html",
        "mlp_md": out / "mlp.md",
        "xy": out / "xy.html",
    }
    assert main(["model", str(MODELS / "mlp.py"), "--report", str(paths["mlp"]), "--json"]) == 0
    assert main(["model", str(MODELS / "linear.py"), "--report", str(paths["linear"])]) == 0
    assert main(["model", str(MODELS / "mlp.py"), "--report", str(paths["mlp_md"])]) == 0
    assert main(["expr", "x*y", "--report", str(paths["xy"])]) == 0
    return paths


def test_html_is_self_contained_with_plots(reports: dict[str, Path]) -> None:
    mlp = reports["mlp"].read_text()
    images = _images(mlp)
    # witness segment, spectral density, multiplicative slice
    assert len(images) == 3
    assert all(img.startswith(b"\x89PNG\r\n\x1a\n") for img in images)
    assert 'alt="loss along the witness segment"' in mlp
    assert 'alt="multiplicative slice contour"' in mlp
    assert 'alt="Hessian spectral density"' in mlp
    srcs = re.findall(r'(?:src|href)="([^"]*)"', mlp)
    assert srcs and all(s.startswith("data:") for s in srcs)
    assert "permutation_symmetry" in mlp and "rescaling_symmetry" in mlp
    linear = reports["linear"].read_text()
    assert '<strong class="yes">yes</strong>' in linear
    assert len(_images(linear)) == 1  # only the spectral density: there is no witness
    xy = reports["xy"].read_text()
    assert len(_images(xy)) == 2  # the convex and the concave witness segments


def test_markdown_report_has_the_arguments(reports: dict[str, Path]) -> None:
    text = reports["mlp_md"].read_text()
    assert "## The arguments, on this model (float64)" in text
    assert "### `multiplicative_weights` (witnessed: True)" in text


def test_expr_report_does_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from convexcheck.cli import main; "
        f"main(['expr', 'log(1 + exp(x))', '--report', {str(tmp_path / 'sp.html')!r}]); "
        "print(json.dumps('torch' in sys.modules))"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    run = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) is False
    assert "Derivation tree" in (tmp_path / "sp.html").read_text()


def test_bad_report_suffix_is_exit_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["expr", "x**2", "--report", "out.pdf"])
    assert info.value.code == 2


def _chromium() -> str | None:
    """Debian's chromium; installed here when missing and we are allowed to (root + apt)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=300, check=True)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "chromium"], env=env, timeout=600, check=True
            )
        except (subprocess.SubprocessError, OSError):
            return None
        return shutil.which("chromium")
    return None


@pytest.mark.slow  # a real browser (installed by apt-get when missing)
def test_headless_chromium_renders_every_image(reports: dict[str, Path], tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed and could not be installed here")
    for key in ("mlp", "xy"):
        page = tmp_path / f"{key}.html"
        page.write_text(reports[key].read_text().replace("</body>", _PROBE + "</body>"))
        run = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
             "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        match = re.search(r'data-rendered="([^"]*)"', run.stdout)
        assert match, run.stderr[-2000:]
        sizes = match.group(1).split(",")
        assert len(sizes) == len(_images(reports[key].read_text()))
        for size in sizes:
            assert size != "broken"
            w, h = (int(v) for v in size.split("x"))
            assert w > 200 and h > 150
