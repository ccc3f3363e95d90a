// The few globals that Node (>= 16), Electron and every browser share, declared here so the
// runtime-neutral contract needs neither DOM nor Node type libraries.
declare function atob(data: string): string;
declare function btoa(data: string): string;
