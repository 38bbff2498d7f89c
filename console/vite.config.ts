import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Served under /console/ by the platform (or any static host).
export default defineConfig({
  base: "/console/",
  plugins: [react()],
});
