"""Take the screenshots of a case page (its timeline) for docs/: desktop light and phone dark.

Serves the app over the index in ARKIV_DATA_DIR (run `arkiv index` first) on a free port of 127.0.0.1 and drives
Debian's Chromium with Playwright.

Example: ARKIV_DATA_DIR=data .venv/bin/python scripts/screenshot_case.py "RJL 2022/258" --out docs/screenshot-case.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshot import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", default="RJL 2022/258")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot-case.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    base, server, thread = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for suffix, viewport, scheme in (("", (1280, 1400), "light"), ("-phone-dark", (390, 1600), "dark")):
                context = browser.new_context(
                    viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=scheme, device_scale_factor=1
                )
                page = context.new_page()
                page.goto(f"{base}/cases/{quote(args.case, safe='')}")
                page.locator("ol.case-timeline").wait_for()
                out = args.out.with_name(args.out.stem + suffix + args.out.suffix)
                page.screenshot(path=str(out), full_page=False)
                sys.stdout.write(f"{out}\n")
                context.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
