"""Style tokens shared by the components."""

import reflex as rx

SIDEBAR_WIDTH = "232px"
TOPBAR_HEIGHT = "60px"
# Touch targets on tablets: at least 44 px high.
TOUCH_HEIGHT = "44px"

sidebar_bg = rx.color("gray", 2)
border = f"1px solid {rx.color('gray', 5)}"
accent_text = rx.color("accent", 11)


# Every Radix control the app draws at least TOUCH_HEIGHT high and wide on every screen,
# whatever its size prop (size="3" is 40 px): buttons, inputs, selects, text areas,
# checkboxes (their clickable label row) and icon buttons. Given to the App's `style`.
TOUCH_TARGETS = {
    ".rt-Button:not(.rt-variant-ghost), .rt-IconButton:not(.rt-variant-ghost)": {
        "min_height": TOUCH_HEIGHT,
    },
    ".rt-IconButton:not(.rt-variant-ghost)": {"min_width": TOUCH_HEIGHT},
    ".rt-TextFieldRoot, .rt-SelectTrigger": {"min_height": TOUCH_HEIGHT},
    ".rt-TextAreaRoot": {"min_height": TOUCH_HEIGHT},
    ".rt-Text:has(> .rt-CheckboxRoot), label:has(> .rt-CheckboxRoot)": {
        "min_height": TOUCH_HEIGHT,
        "display": "inline-flex",
        "align_items": "center",
    },
}
