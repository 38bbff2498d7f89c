import { useSyncExternalStore } from "react";
import { isSignedIn, subscribe } from "./auth/session";
import { SignIn } from "./pages/SignIn";
import { Layout } from "./Layout";

export function App() {
  const signedIn = useSyncExternalStore(subscribe, isSignedIn);
  return signedIn ? <Layout /> : <SignIn />;
}
