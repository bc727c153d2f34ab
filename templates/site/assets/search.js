// Search over every paper with Pagefind's index, which `digest site` writes beside the pages
// (one record per paper page): no server code, nothing loaded from elsewhere. Results are
// built as DOM nodes from text; the only markup kept from an excerpt is Pagefind's <mark>.
const script = document.querySelector("script[data-base]");
const base = script.dataset.base;
const papers = script.dataset.papers;
const form = document.querySelector("form.search");
const input = form.querySelector("input[name=q]");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const shown = 50;
// Results whose text is read to rank them (Pagefind's order is kept within a rank).
const ranked = 80;
// An arXiv id in any form a reader pastes: the id, `arXiv:` before it, a version after it,
// or the URL of its abstract, PDF or HTML page.
const arxivId = new RegExp(
  "^(?:https?://)?(?:www\\.|export\\.)?(?:arxiv\\.org/(?:abs|pdf|html)/)?(?:arxiv:\\s*)?" +
    "(\\d{4}\\.\\d{4,5}|[a-z][a-z-]*(?:\\.[a-z]{2})?/\\d{7})(?:v\\d+)?(?:\\.pdf)?/?(?:[?#].*)?$",
  "i",
);
const han = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
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

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function resultItem(result) {
  const meta = result.meta;
  const item = document.createElement("li");
  const link = element("a", "title", meta.title || result.url);
  link.href = result.url;
  item.append(link);
  if (meta.title_en) {
    const english = element("span", "title-en", meta.title_en);
    english.lang = "en";
    item.append(english);
  }
  if (meta.summary) item.append(element("p", "summary", meta.summary));
  const where = [meta.day, meta.topics].filter(Boolean).join(" · ");
  if (where) item.append(element("div", "meta", where));
  const excerpt = element("p", "excerpt");
  excerpt.append(...excerptNodes(result.excerpt));
  item.append(excerpt);
  return item;
}

const fold = (text) => (text || "").toLowerCase().replace(/\s+/g, " ");

// How well a paper answers the query: the whole query as a phrase in its Chinese title (4),
// in its summary or English title (3), in its text (2); every term somewhere (1); none (0).
function rank(result, query) {
  const phrase = fold(query).trim();
  const terms = phrase.split(" ");
  const meta = result.meta;
  const title = fold(meta.title);
  const heads = fold(`${meta.summary} ${meta.title_en}`);
  const text = fold(`${meta.title} ${meta.title_en} ${meta.summary} ${result.content}`);
  if (title.includes(phrase)) return 4;
  if (heads.includes(phrase)) return 3;
  if (text.includes(phrase)) return 2;
  return terms.every((term) => text.includes(term)) ? 1 : 0;
}

async function openPaper(id) {
  const url = `${papers}${id}/`;
  const found = await fetch(url).catch(() => null);
  if (found && found.ok) {
    await found.text(); // read to its end, so that leaving the page aborts no request
    location.replace(url);
    return;
  }
  status.replaceChildren(`本站没有收录 arXiv:${id}。`);
  const elsewhere = element("a", "", `在 arXiv 上打开 ${id} →`);
  elsewhere.href = `https://arxiv.org/abs/${id}`;
  status.append(" ", elsewhere);
}

async function run(query) {
  const asked = ++latest;
  list.replaceChildren();
  const text = query.trim();
  if (!text) {
    status.textContent = "";
    return;
  }
  status.textContent = "搜索中……";
  const id = text.match(arxivId);
  if (id) {
    await openPaper(id[1]);
    return;
  }
  try {
    if (!pagefind) {
      pagefind = await import(`${base}/pagefind/pagefind.js`);
      await pagefind.options({ baseUrl: `${base}/` });
    }
    const search = await pagefind.search(text);
    const found = await Promise.all(search.results.slice(0, ranked).map((r) => r.data()));
    if (asked !== latest) return;
    let hits = found.map((result, order) => ({ result, order, rank: rank(result, text) }));
    // A Chinese query finds its words and phrases, not papers that merely share characters.
    if (han.test(text)) hits = hits.filter((hit) => hit.rank > 0);
    hits.sort((a, b) => b.rank - a.rank || a.order - b.order);
    hits = hits.slice(0, shown);
    status.textContent = hits.length
      ? `找到 ${hits.length} 篇${hits.length >= shown ? "（只显示前 " + shown + " 篇）" : ""}。`
      : "没有找到。";
    list.append(...hits.map((hit) => resultItem(hit.result)));
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
