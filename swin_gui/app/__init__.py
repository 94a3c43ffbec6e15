"""The Qt desktop app. Panels render a `Trace` through `swin_gui.render`; none calls torch."""
