// The side panels: the image list with progress and the label list.

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

/** What an image's status is called on the page. */
export const STATUS_NAMES = { todo: "to do", done: "done", review: "needs review" };

/**
 * Renders the image or the volume list; `onOpen(item)` when one is clicked.
 * A volume item shows its dimensions and how many slices have strokes; an
 * image item its thumbnail and its status, which `onStatus(item)` cycles
 * when clicked (images only).
 */
export function renderImages(list, items, activeId, labelCount, onOpen, onStatus = null) {
  list.replaceChildren(...items.map((item) => {
    const done = labelCount > 0 ? Math.min(item.labels_annotated / labelCount, 1) : 0;
    const bar = el("div", { className: "progress" }, el("div"));
    bar.firstChild.style.width = `${Math.round(done * 100)}%`;
    const volume = Array.isArray(item.dims);
    const size = volume ? `${item.dims.join("×")} ${item.modality}` : `${item.width}×${item.height}`;
    const slices = volume ? ` · ${item.slices_annotated} slices` : "";
    const text = el("span", { className: "text" },
      el("span", { className: "name", textContent: item.name }),
      el("span", { className: "meta" },
        el("span", { textContent: size }),
        el("span", { textContent: `${item.strokes} strokes${slices} · ${item.labels_annotated}/${labelCount} labels` })));
    const row = el("div", { className: "row" });
    if (onStatus) {
      const thumb = el("img", { className: "thumb", alt: "", loading: "lazy", src: `/api/images/${item.id}/thumb.png` });
      const status = el("button", {
        className: `status ${item.status}`, textContent: STATUS_NAMES[item.status], title: "Click: to do → done → needs review",
      });
      status.addEventListener("click", (e) => { e.stopPropagation(); onStatus(item); });
      row.append(thumb, text, status);
    } else {
      row.append(text);
    }
    const node = el("li", { className: "image-item", title: item.name }, row, bar);
    node.dataset[volume ? "volumeId" : "imageId"] = item.id;
    if (item.id === activeId) node.classList.add("active");
    node.addEventListener("click", () => onOpen(item));
    return node;
  }));
}

/**
 * Renders the label list. `actions` has select(label), rename(label, name),
 * recolour(label, colour), clear(label), remove(label).
 */
export function renderLabels(list, labels, activeId, strokeCounts, actions) {
  list.replaceChildren(...labels.map((label, i) => {
    const colour = el("input", { type: "color", value: label.color, title: "Change colour" });
    colour.addEventListener("click", (e) => e.stopPropagation());
    colour.addEventListener("change", () => actions.recolour(label, colour.value));
    const name = el("span", { className: "label-name", textContent: label.name, title: "Double-click to rename" });
    name.addEventListener("dblclick", (e) => {
      e.stopPropagation();
      const input = el("input", { value: label.name, maxLength: 100 });
      name.replaceChildren(input);
      input.focus();
      input.select();
      let done = false;
      const finish = (save) => {
        if (done) return;
        done = true;
        const value = input.value.trim();
        if (save && value && value !== label.name) actions.rename(label, value);
        else name.textContent = label.name;
      };
      input.addEventListener("keydown", (ev) => {
        ev.stopPropagation();
        if (ev.key === "Enter") finish(true);
        if (ev.key === "Escape") finish(false);
      });
      input.addEventListener("blur", () => finish(true));
    });
    const eye = el("button", {
      className: "icon eye", textContent: label.hidden ? "◌" : "●",
      title: label.hidden ? "Show this label's mask and strokes (V)" : "Hide this label's mask and strokes (V)",
    });
    eye.setAttribute("aria-pressed", String(!label.hidden));
    eye.addEventListener("click", (e) => { e.stopPropagation(); actions.toggleHidden(label); });
    const clear = el("button", { className: "icon", textContent: "⌫", title: "Clear this label's strokes on this image (X)" });
    clear.addEventListener("click", (e) => { e.stopPropagation(); actions.clear(label); });
    const remove = el("button", { className: "icon", textContent: "✕", title: "Delete this label from the project" });
    remove.addEventListener("click", (e) => { e.stopPropagation(); actions.remove(label); });
    const item = el("li", {},
      el("span", { className: "key", textContent: i < 9 ? String(i + 1) : "" }),
      colour, name,
      el("span", { className: "count", textContent: strokeCounts.get(label.id) ?? "" }),
      eye, clear, remove);
    item.dataset.labelId = label.id;
    item.classList.toggle("hidden-label", label.hidden);
    if (label.id === activeId) item.classList.add("active");
    item.addEventListener("click", () => actions.select(label));
    return item;
  }));
}
