"""The default mapping files of the built-in vendors, one ``<vendor>.yaml`` each.

They live here, at the top of the checkout beside ``scimbridge/``, ``tests/`` and
``docs/``, and are data, not code: this file only makes the directory the package
``scimbridge.vendors.mappings`` (``[tool.setuptools.package-dir]`` in pyproject.toml), so
that the wheel carries them as ``scimbridge/vendors/mappings/`` and an editable install
serves them from here (setuptools' editable finder maps a package to another directory
only when it is a regular package). ``VendorPlugin.packaged`` imports it to find them;
``scimbridge mapping show <vendor>`` prints one.
"""
