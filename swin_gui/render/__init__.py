"""Pure numpy rendering: arrays from a Trace become uint8 RGB pictures (colormaps, feature
maps, the pyramid, snapshots). Used by the Qt panels and by the headless CLI alike, so an
exported PNG is the picture a panel shows. No Qt.

Import the submodules directly (``from swin_gui.render.colormap import apply_colormap``).
"""
