"""axe-core in the browser tests: serious and critical findings on the page as it is.

axe-core is vendored (tests/browser/vendor/, MPL-2.0, licence alongside) and injected
with add_script_tag, so the page's context must bypass its CSP (the app's policy
forbids inline scripts, which is how Playwright injects a file): open it with
`browser.new_context(..., bypass_csp=True)`."""
from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core findings on the page as it is now, one line each:
    rule id, what it asks, and the first few elements (with the colours for contrast)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (serious) => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => serious.includes(v.impact))
            .map(v => v.id + ': ' + v.help + ' -> ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')
                + (v.id === 'color-contrast' && n.any[0] ? ' [' + n.any[0].message + ']' : '')).join(' | '));
    }""", list(SERIOUS))
