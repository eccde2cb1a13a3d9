"""The front-end's HTTP endpoints, one module per specification."""
