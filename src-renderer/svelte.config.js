// Read by svelte-check and the vite plugin: Svelte 5 with runes everywhere.
export default { compilerOptions: { runes: true } };
