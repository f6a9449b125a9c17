// The text of a thrown value, whatever was thrown (an Error, a wasm JsError's message, a string).
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
