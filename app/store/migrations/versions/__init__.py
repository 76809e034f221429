"""One module per schema revision, applied in order by `relay db upgrade`."""
