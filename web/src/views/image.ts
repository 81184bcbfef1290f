/** Decoding a scan's plaintext into pixels, in the browser only. */

/** The image type from the metadata's content_type, else from the first bytes. */
export function imageType(plaintext: Uint8Array, metadata: Record<string, unknown> | null): string {
  const declared = metadata?.content_type ?? metadata?.contentType;
  if (typeof declared === "string" && declared.startsWith("image/")) return declared;
  const b = plaintext;
  if (b[0] === 0xff && b[1] === 0xd8) return "image/jpeg";
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return "image/gif";
  if (b[0] === 0x42 && b[1] === 0x4d) return "image/bmp";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46) return "image/webp";
  return "application/octet-stream";
}

export async function decodeImage(bytes: Uint8Array, type: string): Promise<ImageBitmap> {
  const blob = new Blob([bytes as BlobPart], { type });
  try {
    return await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    throw new Error(`the scan opened, but it is not an image this browser can show (${type})`);
  }
}

/** The decoded pixels at natural size (RGBA), drawn without any filter. */
export function pixelsOf(bitmap: ImageBitmap): ImageData {
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2D canvas");
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

/** SHA-256 of width, height and the RGBA bytes: compares decoded images without moving them. */
export async function pixelDigest(bitmap: ImageBitmap): Promise<string> {
  const data = pixelsOf(bitmap);
  const header = new Uint32Array([data.width, data.height]);
  const all = new Uint8Array(8 + data.data.length);
  all.set(new Uint8Array(header.buffer), 0);
  all.set(data.data, 8);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
