from cloudoptima_mcp.azure import main

if __name__ == "__main__":
    main()
