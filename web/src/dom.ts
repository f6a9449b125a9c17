// Tiny DOM helpers shared by the components.

export function option(label: string, value: string): HTMLOptionElement {
  const o = document.createElement('option');
  o.textContent = label;
  o.value = value;
  return o;
}
