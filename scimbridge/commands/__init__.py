"""The subcommands of ``scimbridge`` (:mod:`scimbridge.cli`), one module per group.

They live apart from the layers they drive, so that a layer never imports a
command's needs: the mapping engine knows no vendor, and the emulators are
imported only by the commands that start one.
"""
