// Lobby island: live presence and room lists (filled in by the lobby issue).
export {};
