// Search over the whole archive with Pagefind's index, which `digest site` writes beside
// the pages: no server code, nothing loaded from elsewhere. Results are built as DOM
// nodes from text; the only markup kept from an excerpt is Pagefind's <mark>.
const script = document.querySelector("script[data-base]");
const base = script.dataset.base;
const form = document.querySelector("form.search");
const input = form.querySelector("input[name=q]");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const shown = 50;
const arxivId = /^(?:arxiv:)?(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?\/\d{7})(?:v\d+)?$/i;
let pagefind = null;
let latest = 0;

function excerptNodes(excerpt) {
  const parsed = new DOMParser().parseFromString(`<p>${excerpt}</p>`, "text/html");
  const nodes = [];
  for (const node of parsed.body.firstChild.childNodes) {
    if (node.nodeType === Node.ELEMENT_NODE && node.localName === "mark") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      nodes.push(mark);
    } else {
      nodes.push(document.createTextNode(node.textContent));
    }
  }
  return nodes;
}

// One hit per paper: Pagefind's sub-results are the papers' headings on a day page.
function paperHits(day) {
  const papers = day.sub_results.filter((sub) => sub.url.includes("#"));
  return (papers.length ? papers : day.sub_results).map((sub) => ({ day, sub }));
}

function resultItem({ day, sub }) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = sub.url;
  link.lang = "en";
  link.textContent = sub.title;
  item.append(link);
  const where = document.createElement("div");
  where.className = "meta";
  where.textContent = day.meta.title;
  item.append(where);
  const excerpt = document.createElement("p");
  excerpt.className = "excerpt";
  excerpt.append(...excerptNodes(sub.excerpt));
  item.append(excerpt);
  return item;
}

async function run(query) {
  const asked = ++latest;
  list.replaceChildren();
  if (!query.trim()) {
    status.textContent = "";
    return;
  }
  status.textContent = "搜索中……";
  try {
    // For an id, search its number: the index keeps "2602.20003" as "2602" and "20003".
    const words = query.trim().match(arxivId) ? query.trim().split(/[.:/]/).pop() : query;
    if (!pagefind) {
      pagefind = await import(`${base}/pagefind/pagefind.js`);
      await pagefind.options({ baseUrl: `${base}/` });
    }
    const search = await pagefind.search(words);
    const days = await Promise.all(search.results.slice(0, shown).map((r) => r.data()));
    if (asked !== latest) return;
    let hits = days.flatMap(paperHits);
    // An arXiv id finds its paper alone (the index splits ids at the dot).
    const id = query.trim().match(arxivId);
    if (id) {
      const anchor = `#arxiv-${id[1].replace("/", "-")}`;
      hits = hits.filter(({ sub }) => sub.url.endsWith(anchor));
    }
    hits = hits.slice(0, shown);
    status.textContent = hits.length
      ? `找到 ${hits.length} 篇${hits.length >= shown ? "（只显示前 " + shown + " 篇）" : ""}。`
      : "没有找到。";
    list.append(...hits.map(resultItem));
  } catch (error) {
    status.textContent = "搜索索引还没有生成：运行 digest site（不带 --no-search）。";
    console.error(error);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(location.href);
  url.searchParams.set("q", input.value);
  history.replaceState(null, "", url);
  run(input.value);
});

const initial = new URLSearchParams(location.search).get("q");
if (initial) {
  input.value = initial;
  run(initial);
}
