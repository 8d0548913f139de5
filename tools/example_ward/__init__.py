"""The example ward's snapshot generator: a hardened Debian 12 baseline plus the deviations in deviations.yaml.

``tools/make_example_ward.py`` is the command; the modules here build one host's raw facts by area
(model: the host and shared helpers; access, logs, services, network: the baseline; assemble: one
snapshot; deviations: the ward's deliberate deviations, read and validated from YAML).
"""
