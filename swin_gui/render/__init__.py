"""The views, Qt-free: each `figure_<view>(trace, selection)` turns a Trace into a `Figure`
(render/figure.py: heatmaps, vector overlays, text in points, colour bars, hit regions);
`registry.py` lists them. The Qt panels and the headless CLI draw the same figures through
one backend (swin_gui/app/figure_scene.py), so an export is what a panel shows.

Import the submodules directly (``from swin_gui.render.grid import figure_grid``).
"""
