# Two commands: `make demo` runs the server on the built-in Spotify emulator; `make test` runs every check.
UV ?= $(shell command -v uv 2>/dev/null || echo "$(CURDIR)/.venv-tools/bin/uv")
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: demo test lint typecheck unit bench bench-instructions setup docs

$(UV):
	python3 -m venv .venv-tools && .venv-tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/spotify-mcp demo --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: setup
	$(VENV)/bin/mypy

unit: setup
	$(VENV)/bin/pytest -q -n 2

test: lint typecheck unit

bench: setup
	$(PY) -m bench.bench_tool_call

bench-instructions: setup
	$(PY) -m bench.bench_instructions --calls 300

docs: setup
	$(PY) -c "import anyio; from spotify_mcp.server.mcp_server import build_mcp_server; from spotify_mcp.services import Runtime; from spotify_mcp.tools.reference import render_tools_markdown; open('docs/tools.md', 'w').write(anyio.run(render_tools_markdown, build_mcp_server(Runtime())))"
	$(PY) -c "from spotify_mcp.settings_doc import render_configuration_markdown; open('docs/configuration.md', 'w').write(render_configuration_markdown())"
