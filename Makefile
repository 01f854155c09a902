# The two commands a newcomer needs (see README.md):
#   make run   set everything up and start AI Runway on the local sandbox cluster
#   make test  set everything up and run the whole test suite
.PHONY: setup run test unit crds

setup:
	@scripts/setup.sh

run: setup
	.venv/bin/airunway local

test: setup
	@scripts/setup-browser.sh
	.venv/bin/pytest -ra

unit: setup
	.venv/bin/pytest -ra tests/unit

crds: setup
	.venv/bin/python -m airunway.api.crds --write
