"""Stand-ins on 127.0.0.1 for the outside services the project talks to, answering in their real formats: the
HuggingFace Hub (``hub``), the Azure Retail Prices API and the vLLM recipes site (``standins``), and a container
registry (``registry``)."""
