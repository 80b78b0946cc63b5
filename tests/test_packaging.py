"""What installs the project says what the code needs: requirements.txt mirrors pyproject, every import is declared,
every package ships, and git would store every binary file the Space gets with LFS."""

import ast
import fnmatch
import functools
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from gan.hub.space import space_files

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Import name -> distribution name where the two differ (the installed metadata answers for the rest).
DISTRIBUTIONS = {
    "PIL": "pillow",
    "yaml": "pyyaml",
    "huggingface_hub": "huggingface-hub",
    "gradio_client": "gradio-client",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
}
FIRST_PARTY = {"gan", "demo", "app", "benchmarks", "conftest", "fake_hub", "reference_step"}


REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)(?:;(.*))?")


def canonicalize_name(name: str) -> str:
    """PEP 503: case and runs of '-', '_', '.' do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(requirement: str) -> tuple[str, str, str]:
    """(canonical name, specifiers in a fixed order, marker) of one PEP 508 line (no URLs here)."""
    name, specifier, marker = REQUIREMENT.fullmatch(requirement).groups()
    specifiers = ",".join(sorted(part.replace(" ", "") for part in specifier.split(",") if part.strip()))
    return canonicalize_name(name), specifiers, " ".join((marker or "").split())


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def normalised(requirements: list[str]) -> set[str]:
    """Requirements compared by meaning: canonical name, specifier set and markers, not by spelling."""
    return {parse(requirement) for requirement in requirements}


def declared(*extras: str) -> set[str]:
    """Canonical names of the runtime dependencies plus those of `extras` (every extra when none is named)."""
    optional = PYPROJECT["project"].get("optional-dependencies", {})
    names = extras or tuple(optional)
    requirements = PYPROJECT["project"]["dependencies"] + [r for name in names for r in optional[name]]
    return {parse(requirement)[0] for requirement in requirements}


def imported_modules(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level third-party module -> the files that import it (absolute imports, wherever they sit)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


@functools.cache
def installed_distributions() -> dict[str, list[str]]:
    return packages_distributions()  # reads every installed package's metadata: once


def distribution(module: str) -> str:
    installed = installed_distributions().get(module, [])
    return canonicalize_name(DISTRIBUTIONS.get(module) or (installed[0] if installed else module))


def python_files(*names: str) -> list[Path]:
    files = []
    for name in names:
        path = ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [path for path in files if "__pycache__" not in path.parts]


def test_requirements_txt_mirrors_pyproject():
    dependencies = PYPROJECT["project"]["dependencies"]
    assert normalised(requirement_lines(ROOT / "requirements.txt")) == normalised(dependencies)
    assert len(requirement_lines(ROOT / "requirements.txt")) == len(dependencies)  # no duplicates either side


def test_requirements_dev_installs_the_runtime_and_the_extras():
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in dev
    optional = PYPROJECT["project"]["optional-dependencies"]
    assert normalised(requirement_lines(ROOT / "requirements-dev.txt")) == normalised(
        optional["figures"] + optional["test"]
    )


def test_every_import_of_the_app_and_package_is_declared():
    modules = imported_modules(python_files("gan", "demo", "app.py"))
    assert {"torch", "gradio", "huggingface_hub"} <= set(modules)  # the scan sees the code
    missing = {module: sorted(files) for module, files in modules.items() if distribution(module) not in declared()}
    assert not missing, f"imported but not in pyproject.toml (dependencies or an extra): {missing}"


def test_every_import_of_the_tests_is_declared():
    modules = imported_modules(python_files("tests"))
    missing = {
        module: sorted(files) for module, files in modules.items() if distribution(module) not in declared("test")
    }
    assert not missing, f"imported by tests but not in the dependencies or the test extra: {missing}"


@pytest.mark.parametrize(
    ("module", "name"), [("PIL", "pillow"), ("yaml", "pyyaml"), ("huggingface_hub", "huggingface-hub")]
)
def test_import_names_map_to_distributions(module, name):
    assert distribution(module) == name


def test_every_package_folder_ships():
    setuptools = PYPROJECT["tool"]["setuptools"]
    if "packages" in setuptools and isinstance(setuptools["packages"], list):
        listed = set(setuptools["packages"])
    else:
        # packages.find: every folder with an __init__.py whose dotted name an include pattern matches.
        find = setuptools.get("packages", {}).get("find", {})
        tops = [top for top in ROOT.iterdir() if top.is_dir() and not top.name.startswith(".") and top.name != "runs"]
        inits = [init for top in tops for init in top.rglob("__init__.py")]
        candidates = {init.parent.relative_to(ROOT).as_posix().replace("/", ".") for init in inits}
        listed = {
            name
            for name in candidates
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in find.get("include", ["*"]))
            and not any(fnmatch.fnmatchcase(name, pattern) for pattern in find.get("exclude", []))
        }
    folders = {path.parent for path in python_files("gan", "demo")}
    assert all((folder / "__init__.py").is_file() for folder in folders), "a code folder without __init__.py"
    packages = {folder.relative_to(ROOT).as_posix().replace("/", ".") for folder in folders}
    assert packages <= listed, f"not in the wheel: {sorted(packages - listed)}"
    assert "tests" not in listed and "benchmarks" not in listed


def lfs_patterns() -> list[str]:
    lines = (line.split() for line in (ROOT / ".gitattributes").read_text().splitlines())
    return [parts[0] for parts in lines if parts and not parts[0].startswith("#") and "filter=lfs" in parts]


def test_gitattributes_stores_every_binary_file_of_the_space_with_lfs():
    patterns = lfs_patterns()
    assert {"*.safetensors", "*.pt", "*.pth", "*.bin", "*.png", "*.gif", "*.jpg", "*.webp", "*.ckpt", "*.pkl"} <= set(
        patterns
    )
    binaries = []
    for path, local in space_files(ROOT).items():
        data = local.read_bytes()
        try:
            data.decode()
        except UnicodeDecodeError:
            binaries.append(path)
            continue
        if b"\0" in data:
            binaries.append(path)
    assert any(path.endswith(".safetensors") for path in binaries) and any(path.endswith(".png") for path in binaries)
    # git matches a pattern without a slash against the file's name, in any folder.
    unmatched = [p for p in binaries if not any(fnmatch.fnmatch(Path(p).name, pattern) for pattern in patterns)]
    assert not unmatched, f"binary files git would push without LFS (the Hub refuses them): {unmatched}"
