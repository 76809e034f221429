"""Page weights as a browser sees them: requests and bytes (headers and bodies, as sent) with
an empty cache, then the requests that still reach the network with a warm one."""

from __future__ import annotations


def _load(page, path: str) -> list:
    finished: list = []

    def note(request) -> None:
        finished.append(request)

    page.on("requestfinished", note)
    page.goto(path)
    page.wait_for_load_state("load")
    page.remove_listener("requestfinished", note)
    return finished


def _from_cache(sizes: dict) -> bool:
    # Chromium reports nothing transferred for a cache hit: a body size of minus the headers.
    return sizes["responseBodySize"] < 0


def measure(chromium, base: str, cookies: list[dict], pages: dict[str, str]) -> dict[str, dict]:
    weights = {}
    for name, path in pages.items():
        context = chromium.new_context(base_url=base)  # a fresh profile: an empty cache
        try:
            context.add_cookies(cookies)
            page = context.new_page()
            cold = _load(page, path)
            sizes = [request.sizes() for request in cold]
            html = next(
                s for r, s in zip(cold, sizes, strict=True) if r.resource_type == "document"
            )
            warm = _load(page, path)
            warm_sizes = [request.sizes() for request in warm]
        finally:
            context.close()
        weights[name] = {
            "path": path,
            "cold_requests": len(cold),
            "cold_bytes": sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes),
            "html_bytes": html["responseBodySize"],
            "warm_requests": sum(1 for s in warm_sizes if not _from_cache(s)),
        }
    return weights


def weights_table(weights: dict[str, dict]) -> str:
    lines = [
        "# Console page weights",
        "",
        "Measured by tests/console/test_console_browser.py in Chromium against the relay",
        "(gunicorn, no compression), with the test's seeded data: an empty cache first, then",
        "the same page again (requests that reached the network).",
        "",
        "| page | KB, empty cache | requests, empty cache | HTML KB | requests, warm cache |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, w in weights.items():
        lines.append(
            f"| {name} | {w['cold_bytes'] / 1024:.1f} | {w['cold_requests']} | "
            f"{w['html_bytes'] / 1024:.1f} | {w['warm_requests']} |"
        )
    return "\n".join(lines) + "\n"
