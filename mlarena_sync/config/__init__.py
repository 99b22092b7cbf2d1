"""``mlarena.yaml``: the model (frozen dataclasses), the loader (file:line errors), the template."""
