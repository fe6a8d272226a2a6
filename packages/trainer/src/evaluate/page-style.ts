/** The CSS that the evaluation report and the runs comparison share, so the two pages look like one product. */
export const PAGE_STYLE = `
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --panel: #f9fafb; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 32px 48px; background: #fff; min-height: 100vh; }
header { border-bottom: 1px solid var(--line); padding-bottom: 16px; margin-bottom: 24px; }
.eyebrow { margin: 0; color: var(--accent); font-weight: 600; text-transform: uppercase; letter-spacing: .06em; font-size: 12px; }
h1 { margin: 4px 0 8px; font-size: 28px; }
h1 .muted { color: var(--muted); font-weight: 400; }
h2 { font-size: 19px; margin: 36px 0 8px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--panel); padding: 1px 4px; border-radius: 4px; }`;

/**
 * The page the evaluation report and the runs comparison share: head, a header with an eyebrow, a title
 * and a meta line, then `body`. Every argument is HTML already escaped by the caller.
 */
export function htmlPage(page: {
  title: string;
  style: string;
  eyebrow: string;
  heading: string;
  meta: string;
  body: string;
}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<style>${page.style}</style>
</head>
<body>
<main>
<header>
  <p class="eyebrow">${page.eyebrow}</p>
  <h1>${page.heading}</h1>
  <p class="meta">${page.meta}</p>
</header>
${page.body}
</main>
</body>
</html>
`;
}
