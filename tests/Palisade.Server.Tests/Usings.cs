global using Palisade.Client;
