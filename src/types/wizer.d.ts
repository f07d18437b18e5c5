/** `@bytecodealliance/wizer` (a devDependency): its default export is the path of the platform's wizer binary. */
declare module '@bytecodealliance/wizer' {
  const binaryPath: string;
  export default binaryPath;
}
