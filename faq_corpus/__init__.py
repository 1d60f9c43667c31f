"""The shipped FAQ corpus: YAML data files only, installed with the package."""
