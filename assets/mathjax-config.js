// MathJax for the Jekyll pages, configured so that formulas written by strangers cannot act:
// no \href, \class, \cssId, \style (the html extension), \unicode or \require, and the
// ui/safe extension clears any URL, class, id or style that reaches the math anyway.
// A file of the site's own, not an inline script, so that the page's
// Content-Security-Policy can forbid inline scripts.
window.MathJax = {
  loader: { load: ["ui/safe"] },
  tex: {
    packages: { "[-]": ["require", "html", "unicode"] },
    autoload: { html: [], unicode: [] },
  },
  options: {
    safeOptions: {
      allow: { URLs: "none", classes: "none", cssIDs: "none", styles: "none" },
    },
  },
};
