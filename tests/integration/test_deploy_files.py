"""The files in deploy/ hold together: the systemd units pass `systemd-analyze verify`, the
compose file validates (with `docker compose config` where it runs, else by its structure),
the Caddyfile proxies the websocket behind TLS, and the Dockerfile installs exactly what the
Makefile installs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from klinikita.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = ["klinikita.service", "klinikita-worker.service"]
INSTALL_ROOT = "/opt/klinikita"


# ----- systemd ---------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path, unit: str):
    """`systemd-analyze verify` checks every directive and that ExecStart's binaries exist.
    The units name /opt/klinikita/.venv/bin/python, which exists only on a server: the test
    verifies a copy with /opt/klinikita replaced by a folder whose .venv/bin/python is this
    Python, so every other finding still fails the test."""
    analyze = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    if not Path(analyze).exists():
        pytest.skip("systemd-analyze is not installed here")
    root = tmp_path / "opt-klinikita"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    text = (DEPLOY / unit).read_text()
    assert f"ExecStart={INSTALL_ROOT}/.venv/bin/python -m klinikita" in text
    copy = tmp_path / unit
    copy.write_text(text.replace(INSTALL_ROOT, str(root)))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    # Units it names in After= (postgresql, redis) need not exist on this machine.
    findings = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "Failed to resolve" not in line and "not found" not in line
    ]
    assert result.returncode == 0 and not findings, result.stdout + result.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_is_hardened_and_restarts_quickly(unit: str):
    directives = _directives((DEPLOY / unit).read_text())
    assert directives["User"] == "klinikita" and directives["Group"] == "klinikita"
    assert directives["EnvironmentFile"] == "/etc/klinikita/klinikita.env"
    assert directives["Restart"] == "always" and float(directives["RestartSec"]) <= 2
    assert directives["StateDirectory"] == "klinikita"
    assert directives["StateDirectoryMode"] == "0700" and directives["UMask"] == "0077"
    assert directives["ProtectSystem"] == "strict"
    assert directives["ReadWritePaths"] == "/var/lib/klinikita"
    assert directives["NoNewPrivileges"] == "true" and directives["PrivateTmp"] == "true"


def _directives(unit_text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in unit_text.splitlines() if re.match(r"^\w+=", line))
    return {key: value for key, value in pairs}


# ----- compose ---------------------------------------------------------------------------------
def test_compose_file_validates(tmp_path: Path):
    """`docker compose config -q` when the compose plugin runs here; otherwise the structure
    is checked: every service, healthchecks, the env file, the volumes and what starts when."""
    env = {"POSTGRES_PASSWORD": "x", "KLINIKITA_DOMAIN": "rme.klinik.test", "PATH": "/usr/bin"}
    (tmp_path / "klinikita.env").write_text("")
    compose = tmp_path / "compose.yaml"
    shutil.copy(DEPLOY / "compose.yaml", compose)
    shutil.copy(DEPLOY / "Caddyfile", tmp_path / "Caddyfile")
    docker = shutil.which("docker") or "/usr/local/bin/docker"
    if Path(docker).exists():
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            result = subprocess.run(
                [docker, "compose", "-f", str(compose), "config", "-q"],
                capture_output=True,
                text=True,
                env=env,
            )
            assert result.returncode == 0, result.stderr
    spec = _load_yaml(compose)
    services = spec["services"]
    assert set(services) == {"migrate", "app", "worker", "postgres", "redis", "caddy"}
    for name in ("app", "worker", "migrate"):
        assert services[name]["env_file"] == "klinikita.env"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert "klinikita-data:/var/lib/klinikita" in services[name]["volumes"]
    for name in ("app", "worker", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["command"] == ["python", "-m", "klinikita", "prestart"]
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["app"]["environment"]["KLINIKITA_RUN_WORKER"] == "0"
    assert services["app"]["environment"]["REFLEX_TRUSTED_PROXY_HOPS"] == "1"
    assert services["caddy"]["environment"]["KLINIKITA_UPSTREAM"] == "app:3000"
    assert set(spec["volumes"]) >= {"klinikita-data", "postgres-data", "caddy-data"}


def _load_yaml(path: Path) -> dict:
    """The YAML file as data: PyYAML in this Python, or in a python3 on PATH that has it
    (the project itself does not depend on PyYAML)."""
    try:
        import yaml
    except ImportError:
        for python in {shutil.which("python3"), "/usr/bin/python3"} - {None, sys.executable}:
            script = "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
            result = subprocess.run([python, "-c", script, str(path)], capture_output=True)
            if result.returncode == 0:
                return json.loads(result.stdout)
        pytest.skip("neither docker compose nor PyYAML is available to read compose.yaml")
    return yaml.safe_load(path.read_text())


# ----- Caddy -----------------------------------------------------------------------------------
def test_caddyfile_serves_tls_and_proxies_the_websocket():
    text = (DEPLOY / "Caddyfile").read_text()
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    code = "\n".join(line for line in lines if line.strip())
    # A site block named by a domain: Caddy gets and renews its certificate (automatic TLS).
    site = re.search(r"^\{\$KLINIKITA_DOMAIN:([\w.-]+)\} \{$", code, re.M)
    assert site and "." in site.group(1) and not site.group(1).startswith("http:")
    assert re.search(r"@websocket path /_event /_event/\*", code)
    assert re.search(r"reverse_proxy @websocket \{\$KLINIKITA_UPSTREAM:127\.0\.0\.1:3000\}", code)
    assert re.search(r"^\treverse_proxy \{\$KLINIKITA_UPSTREAM:127\.0\.0\.1:3000\}", code, re.M)
    assert code.count("{") == code.count("}")


# ----- the image is built as the Makefile builds -----------------------------------------------
def _install_commands(text: str) -> set[str]:
    """pip, npm and reflex build commands, normalised: no paths to the venv, variables named
    alike, continuation lines joined, flags as written."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = set()
    for command in re.split(r"\n|&&", joined):
        command = re.sub(r"^\s*(RUN\s+)?", "", command).strip()
        command = re.sub(r"^(\w+=\S+\s+)+", "", command)  # the environment it runs with
        command = re.sub(r"^(\$\(BIN\)/|\.venv/bin/)", "", command)
        command = command.replace("$(TOOLS)", ".tools").replace("$(VENV)", ".venv")
        command = re.sub(r"\$\(?\{?(NODE_VERSION|BUN_VERSION|PORT)\}?\)?", r"<\1>", command)
        if re.match(r"(pip install|npm install|reflex (export|compile))", command):
            found.add(re.sub(r"\s+", " ", command))
    return found


def test_the_dockerfile_installs_what_the_makefile_installs():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    make_steps, docker_steps = _install_commands(makefile), _install_commands(dockerfile)
    for step in (
        "pip install --quiet --require-hashes -r requirements.lock",
        "pip install --quiet --no-deps -e .",
        "reflex export --frontend-only --no-zip --env prod",
    ):
        assert step in make_steps and step in docker_steps, (make_steps, docker_steps)
    npm = [s for s in make_steps if s.startswith("npm install")]
    assert npm and set(npm) <= docker_steps, (npm, docker_steps)
    # The same tool versions.
    for name in ("NODE_VERSION", "BUN_VERSION"):
        make_version = re.search(rf"^{name} := (\S+)$", makefile, re.M).group(1)
        assert f"ARG {name}={make_version}" in dockerfile


def test_the_image_keeps_local_state_out_and_its_data_in_the_volume():
    """The build context leaves out environments, build output, databases and keys, and an
    image run without settings keeps its SQLite database in the data volume."""
    ignored = {
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".tools", ".web", "*.db", "*.key"} <= ignored
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "REFLEX_DB_URL=sqlite:////var/lib/klinikita/klinikita.db" in dockerfile
    assert "VOLUME /var/lib/klinikita" in dockerfile
