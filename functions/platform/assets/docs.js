// Renders /openapi.json as a list of operations grouped by tag, with their parameters,
// request bodies, responses and the schemas they refer to.
(function () {
  "use strict";
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  };
  const json = (value) => el("pre", {}, JSON.stringify(value, null, 2));

  function schemaOf(content) {
    if (!content) return null;
    const first = Object.values(content)[0];
    return first && first.schema ? first.schema : null;
  }

  function operation(path, method, op, spec) {
    const summary = el("summary", {},
      el("span", { class: "method " + method }, method.toUpperCase()), " ", path,
      op.security ? el("span", { class: "lock" }, "🔒 bearer") : "");
    const body = el("div", { class: "body" });
    if (op.description || op.summary) body.append(el("p", {}, op.summary || "", " ", op.description || ""));
    if (op.parameters && op.parameters.length) {
      body.append(el("h4", {}, "Parameters"),
        el("table", {}, op.parameters.map((p) => el("tr", {}, el("td", {}, p.name), el("td", {}, p.in), el("td", {}, p.required ? "required" : "optional")))));
    }
    if (op.requestBody) {
      body.append(el("h4", {}, "Request body (" + Object.keys(op.requestBody.content || {}).join(", ") + ")"), json(schemaOf(op.requestBody.content)));
    }
    body.append(el("h4", {}, "Responses"));
    Object.entries(op.responses || {}).forEach(([status, r]) => {
      body.append(el("div", {}, el("strong", {}, status), " ", r.description || ""));
      const s = schemaOf(r.content);
      if (s) body.append(json(s));
    });
    return el("details", {}, summary, body);
  }

  function render(spec) {
    document.getElementById("title").textContent = spec.info.title;
    document.getElementById("version").textContent = "OpenAPI " + spec.openapi + " · version " + spec.info.version;
    const byTag = {};
    Object.entries(spec.paths || {}).forEach(([path, item]) => {
      Object.entries(item).forEach(([method, op]) => {
        if (typeof op !== "object" || !op.responses) return;
        const tag = (op.tags && op.tags[0]) || "other";
        (byTag[tag] = byTag[tag] || []).push(operation(path, method, op, spec));
      });
    });
    const main = document.getElementById("content");
    main.replaceChildren();
    Object.keys(byTag).sort().forEach((tag) => {
      main.append(el("section", { class: "tag" }, el("h2", {}, tag), byTag[tag]));
    });
    const schemas = (spec.components && spec.components.schemas) || {};
    main.append(el("section", { class: "tag" }, el("h2", {}, "schemas"),
      Object.entries(schemas).map(([name, s]) => el("details", {}, el("summary", {}, name), el("div", { class: "body" }, json(s))))));
  }

  fetch("/openapi.json")
    .then((r) => r.json())
    .then(render)
    .catch((e) => { document.getElementById("content").textContent = "Could not load /openapi.json: " + e; });
})();
