"""Pages of the clic-geo dashboard (thin: widgets in, one clic_geo call per step, results out)."""
