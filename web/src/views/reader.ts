/**
 * The scan reader: a canvas with zoom (buttons, wheel), pan (drag), brightness and contrast.
 * The decoded image stays in this page's memory; nothing is uploaded or stored.
 */
import { h } from "./dom.js";

const MIN_ZOOM = 0.25;
const MAX_ZOOM = 16;

export class ScanReader {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly zoomLabel: HTMLElement;
  private readonly brightness: HTMLInputElement;
  private readonly contrast: HTMLInputElement;
  private readonly info: HTMLElement;
  private bitmap: ImageBitmap | null = null;
  private zoom = 1;
  private panX = 0;
  private panY = 0;
  private drag: { x: number; y: number; panX: number; panY: number } | null = null;

  constructor() {
    this.canvas = h("canvas", { class: "scan-canvas", width: 640, height: 512, "aria-label": "Decrypted scan" });
    this.zoomLabel = h("span", { class: "zoom-label" }, "100%");
    this.brightness = h("input", { type: "range", min: 20, max: 300, value: 100, "aria-label": "Brightness", id: "brightness" });
    this.contrast = h("input", { type: "range", min: 20, max: 300, value: 100, "aria-label": "Contrast", id: "contrast" });
    this.info = h("div", { class: "reader-info" });
    const redraw = (): void => this.render();
    this.brightness.addEventListener("input", redraw);
    this.contrast.addEventListener("input", redraw);
    const toolbar = h(
      "div",
      { class: "reader-toolbar" },
      h("button", { type: "button", class: "small", onclick: () => this.setZoom(this.zoom / 1.25), title: "Zoom out", "data-action": "zoom-out" }, "−"),
      this.zoomLabel,
      h("button", { type: "button", class: "small", onclick: () => this.setZoom(this.zoom * 1.25), title: "Zoom in", "data-action": "zoom-in" }, "+"),
      h("button", { type: "button", class: "small", onclick: () => this.reset(), "data-action": "reset" }, "Fit / reset"),
      h("label", {}, "Brightness ", this.brightness),
      h("label", {}, "Contrast ", this.contrast),
    );
    this.element = h("div", { class: "reader", hidden: true }, toolbar, this.canvas, this.info);
    this.canvas.addEventListener("wheel", (e) => {
      if (!this.bitmap) return;
      e.preventDefault();
      this.setZoom(this.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
    }, { passive: false });
    this.canvas.addEventListener("pointerdown", (e) => {
      this.drag = { x: e.clientX, y: e.clientY, panX: this.panX, panY: this.panY };
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener("pointermove", (e) => {
      if (!this.drag) return;
      const scale = this.canvas.width / this.canvas.clientWidth || 1;
      this.panX = this.drag.panX + (e.clientX - this.drag.x) * scale;
      this.panY = this.drag.panY + (e.clientY - this.drag.y) * scale;
      this.render();
    });
    const end = (): void => {
      this.drag = null;
    };
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
  }

  get image(): ImageBitmap | null {
    return this.bitmap;
  }

  show(bitmap: ImageBitmap, description: string): void {
    this.bitmap?.close();
    this.bitmap = bitmap;
    this.element.hidden = false;
    this.info.textContent = description;
    this.reset();
  }

  setZoom(zoom: number): void {
    this.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
    this.render();
  }

  setFilters(brightness: number, contrast: number): void {
    this.brightness.value = String(brightness);
    this.contrast.value = String(contrast);
    this.render();
  }

  reset(): void {
    this.zoom = 1;
    this.panX = 0;
    this.panY = 0;
    this.brightness.value = "100";
    this.contrast.value = "100";
    this.render();
  }

  render(): void {
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const { width: cw, height: ch } = this.canvas;
    ctx.filter = "none";
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, cw, ch);
    this.zoomLabel.textContent = `${Math.round(this.zoom * 100)}%`;
    const bitmap = this.bitmap;
    if (!bitmap) return;
    const fit = Math.min(cw / bitmap.width, ch / bitmap.height);
    const scale = fit * this.zoom;
    const w = bitmap.width * scale;
    const hgt = bitmap.height * scale;
    ctx.imageSmoothingEnabled = scale < 2;
    ctx.filter = `brightness(${this.brightness.value}%) contrast(${this.contrast.value}%)`;
    ctx.drawImage(bitmap, (cw - w) / 2 + this.panX, (ch - hgt) / 2 + this.panY, w, hgt);
    ctx.filter = "none";
  }
}
