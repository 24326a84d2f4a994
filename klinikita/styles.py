"""Style tokens shared by the components."""

import reflex as rx

SIDEBAR_WIDTH = "232px"
TOPBAR_HEIGHT = "60px"
# Touch targets on tablets: at least 44 px high.
TOUCH_HEIGHT = "44px"

sidebar_bg = rx.color("gray", 2)
border = f"1px solid {rx.color('gray', 5)}"
accent_text = rx.color("accent", 11)
