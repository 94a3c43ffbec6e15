"""Pure numpy/torch analysis of a Trace: feature-map statistics and projections, and the
other per-view computations. No Qt; every function takes arrays and returns arrays.

Import the submodules directly (``from swin_gui.analysis.features import pca_rgb``); this
package imports nothing eagerly so that each analysis stays cheap to load.
"""
