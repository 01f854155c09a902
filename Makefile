# The two commands a newcomer needs (see README.md):
#   make run   set everything up and start AI Runway on the local sandbox cluster
#   make test  set everything up and run the whole test suite
.PHONY: setup run test unit crds image manifests

setup:
	@scripts/setup.sh

run: setup
	.venv/bin/airunway local

test: setup image
	@scripts/setup-browser.sh
	.venv/bin/pytest -ra

unit: setup
	.venv/bin/pytest -ra tests/unit

manifests: setup
	.venv/bin/python hack/manifests.py

crds: setup
	.venv/bin/python -m airunway.api.crds --write

# The container image (podman; layers and local bases cached under ~/.cache/airunway): IMAGE=name:tag to rename.
image:
	@scripts/image.sh build
