// Channel settings: "Copy" buttons copy the field their data-copy selector names.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  source.select();
  const done = () => { button.classList.add("copied"); setTimeout(() => button.classList.remove("copied"), 1500); };
  if (navigator.clipboard) navigator.clipboard.writeText(source.value).then(done, () => document.execCommand("copy"));
  else { document.execCommand("copy"); done(); }
});
