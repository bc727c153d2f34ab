// The site's own small script; every page serves without it. It adds: on a day's page, a
// button that opens every paper at once and, on a ranked site, one that sorts its papers by
// relevance (both remembered); on pages that list papers, topic chips
// that filter the list in place (the chip's link, to the topic's page, serves without the
// script); on a paper's page, buttons that copy its link and its BibTeX entry.
"use strict";

const EXPANDED = "digest.expand-all";
const RANKED = "digest.by-relevance";

function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage refused (private mode, a policy): nothing is remembered
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // as above
  }
}

// A remembered on/off button in the day's header: `apply(on)` does the work, `labels` are
// what the button says when off and when on.
function dayToggle(day, className, key, labels, apply) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  const show = (on) => {
    apply(on);
    button.textContent = on ? labels[1] : labels[0];
    button.setAttribute("aria-pressed", String(on));
  };
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    remember(key, on ? "1" : "0");
    show(on);
  });
  day.querySelector("header").append(button);
  show(remembered(key) === "1");
}

function expandAll(day) {
  const papers = day.querySelectorAll("details.more");
  if (!papers.length) return;
  dayToggle(day, "expand-all", EXPANDED, ["全部展开", "全部收起"], (open) => {
    for (const paper of papers) paper.open = open;
  });
}

function topicFilter(scope) {
  const entries = [...scope.querySelectorAll("[data-topics]")];
  if (!entries.length) return;
  const bar = document.createElement("p");
  bar.className = "filter";
  bar.hidden = true;
  (scope.querySelector(":scope > header") || scope.querySelector("h1, h2")).after(bar);
  const apply = (key) => {
    let count = 0;
    for (const entry of entries) {
      entry.hidden = Boolean(key) && !entry.dataset.topics.split(" ").includes(key);
      if (!entry.hidden) count += 1;
    }
    for (const chip of scope.querySelectorAll("a.topic[data-topic]")) {
      chip.classList.toggle("active", chip.dataset.topic === key);
    }
    const url = new URL(location.href);
    if (key) url.searchParams.set("topic", key);
    else url.searchParams.delete("topic");
    history.replaceState(null, "", url);
    bar.hidden = !key;
    if (!key) return;
    const chip = scope.querySelector(`a.topic[data-topic="${CSS.escape(key)}"]`);
    const all = document.createElement("button");
    all.type = "button";
    all.textContent = "显示全部";
    all.addEventListener("click", () => apply(""));
    const page = document.createElement("a");
    page.href = chip ? chip.href : "";
    page.textContent = "这个主题的全部论文 →";
    bar.replaceChildren(`只看「${chip ? chip.textContent : key}」：${count} 篇 `, all, " ", page);
  };
  scope.addEventListener("click", (event) => {
    const chip = event.target.closest("a.topic[data-topic]");
    if (!chip || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    apply(chip.classList.contains("active") ? "" : chip.dataset.topic);
  });
  const asked = new URLSearchParams(location.search).get("topic");
  if (asked && scope.querySelector(`a.topic[data-topic="${CSS.escape(asked)}"]`)) apply(asked);
}

function copyButton(target, text) {
  if (!navigator.clipboard) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = "复制";
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "已复制";
    } catch {
      button.textContent = "复制失败，请手动选择";
    }
  });
  target.after(button);
}

// On a day ranked for the owner (`interests`), its papers by relevance or in arXiv's order.
function sortByScore(day) {
  const papers = [...day.querySelectorAll("section.paper[data-score]")];
  if (papers.length < 2) return;
  const first = papers[0].previousElementSibling;
  dayToggle(day, "sort", RANKED, ["按相关度排序", "按原顺序"], (ranked) => {
    const order = ranked
      ? [...papers].sort((a, b) => Number(b.dataset.score) - Number(a.dataset.score))
      : papers;
    first.after(...order);
  });
}

const day = document.querySelector("article.day");
if (day) {
  expandAll(day);
  sortByScore(day);
}
for (const scope of document.querySelectorAll("[data-filter]")) topicFilter(scope);
const permalink = document.querySelector("a.permalink");
if (permalink) copyButton(permalink, permalink.href);
const bibtex = document.querySelector("pre.bibtex");
if (bibtex) copyButton(bibtex, bibtex.textContent);
