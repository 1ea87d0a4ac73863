/// The frame every dashboard page shares: a document with the stylesheet (screen,
/// projector and print), no script, and the title.
public enum HTMLPage {
    /// `extraStyle` follows the shared stylesheet (a page's own layout).
    public static func document(title: String, body: String, extraStyle: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Escape.html(title))</title>
        <style>\(stylesheet)\(extraStyle.isEmpty ? "" : "\n" + extraStyle)</style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// Large type and strong contrast for a projector; one indicator per printed block, no navigation on paper.
    static let stylesheet = """
        :root { color: #1a1a1a; background: #ffffff; font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 18px; line-height: 1.45; }
        body { margin: 0 auto; max-width: 1600px; padding: 0 24px 48px; }
        header.page { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 12px; border-bottom: 3px solid #0b5394; padding: 16px 0 8px; }
        h1 { font-size: 2rem; margin: 0; } h2 { font-size: 1.5rem; margin: 0 0 8px; } h3 { font-size: 1.15rem; margin: 16px 0 8px; }
        .vision { font-size: 1.1rem; margin: 4px 0 0; } .who { margin: 0; }
        nav.indicators { margin: 12px 0; } nav.indicators a { margin-right: 16px; }
        a { color: #0b4f8a; } a:focus, button:focus, input:focus { outline: 3px solid #b34700; outline-offset: 2px; }
        table { border-collapse: collapse; margin: 8px 0 16px; font-size: 1rem; }
        th, td { border: 1px solid #8c8c8c; padding: 6px 10px; text-align: left; vertical-align: top; }
        th { background: #e8eef5; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        section.indicator { border-top: 2px solid #8c8c8c; padding-top: 16px; margin-top: 24px; }
        .charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
        figure { margin: 0; } figcaption { font-size: 0.95rem; }
        .chart-and-table { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        svg.chart { max-width: 100%; height: auto; border: 1px solid #d9d9d9; }
        .on-track { color: #1e6b2e; font-weight: bold; } .off-track { color: #a61b1b; font-weight: bold; }
        .suppressed-cell { background: repeating-linear-gradient(45deg, #f2f2f2, #f2f2f2 6px, #c8c8c8 6px, #c8c8c8 9px); font-weight: bold; }
        .missing-cell { color: #4d4d4d; font-style: italic; }
        .progress { display: inline-block; width: 120px; height: 14px; border: 1px solid #1a1a1a; vertical-align: middle; margin-right: 6px; }
        .progress > span { display: block; height: 100%; background: #0b5394; }
        td.state-reported { background: #d8f0dc; } td.state-missing { background: #fff3c4; } td.state-late { background: #f9d2d2; font-weight: bold; }
        .note { font-size: 0.95rem; color: #333333; max-width: 70ch; }
        form.sign-out { display: inline; } button, input[type=submit] { font-size: 1rem; padding: 6px 14px; }
        .sign-in { max-width: 36rem; margin: 64px auto; } .sign-in input[type=password] { font-size: 1.1rem; width: 100%; padding: 8px; box-sizing: border-box; margin: 8px 0 16px; }
        .error { border: 2px solid #a61b1b; padding: 8px 12px; color: #a61b1b; }
        .chart-links { font-size: 0.9rem; }
        table.review td.cell-error { background: #f9d2d2; } table.review td.cell-warning { background: #fff3c4; }
        .issue { font-size: 0.9rem; margin: 4px 0 0; } .issue.error { color: #a61b1b; } .issue.warning p { margin: 4px 0 0; }
        table.history { font-size: 0.85rem; margin: 4px 0; } table.history caption { text-align: left; }
        form.store button { font-size: 1.1rem; padding: 8px 20px; }
        @media print {
          :root { font-size: 12pt; } body { max-width: none; padding: 0; }
          nav, .chart-links, form.sign-out, .no-print { display: none !important; }
          section.indicator { break-before: page; break-inside: avoid; border-top: none; }
          section.scorecard, section.completeness { break-inside: avoid; }
          svg.chart { border: none; }
          a { color: inherit; text-decoration: none; }
        }
        """
}
