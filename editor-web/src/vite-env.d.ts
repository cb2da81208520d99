// Asset imports resolved by Vite to a URL (used for ELK's web worker script).
declare module '*?url' {
  const url: string;
  export default url;
}
